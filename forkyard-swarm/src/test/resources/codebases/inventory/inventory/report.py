"""Report rendering."""
import os


def render(rows, fmt="text"):
    """Renders rows."""
    if fmt == "csv":
        return "\n".join(",".join(map(str, r)) for r in rows)
    elif fmt == "md":
        return "\n".join("| " + " | ".join(map(str, r)) + " |" for r in rows)
    return "\n".join(" ".join(map(str, r)) for r in rows)


def publish(name):
    os.system("lpr " + name)
    exec("print('published %s')" % name)
