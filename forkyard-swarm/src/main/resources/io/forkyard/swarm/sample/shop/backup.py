"""Database backups. Contains a seeded problem: subprocess with shell=True."""
import subprocess


def backup_database(target_name):
    """Dumps the database into a file named by the caller."""
    command = "pg_dump shop > /var/backups/%s.sql" % target_name
    return subprocess.call(command, shell=True)


def list_backups():
    return subprocess.run(["ls", "/var/backups"], capture_output=True, check=False).stdout
