"""A user perspective: TODO comments left in the code (an example of the script contract)."""


def analyze(target):
    locations = []
    for f in target.files:
        for number, line in enumerate(f.source.splitlines(), start=1):
            if "TODO" in line:
                locations.append(
                    {"file": f.path, "line": number, "severity": "LOW", "title": "TODO: " + line.split("TODO", 1)[1].strip(" :")}
                )
    return {
        "score": max(0, 100 - 10 * len(locations)),
        "finding": "%d TODO comments in %d files" % (len(locations), len(target.files)),
        "details": {"todos": len(locations), "locations": locations},
    }
