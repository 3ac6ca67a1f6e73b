"""`python -m app.backup create [--out FILE]` and `python -m app.backup restore FILE [--force]`.

Exit status 0 on success, 1 when the backup or restore was refused or failed (the reason on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.backup.database import BackupError


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.backup", description="Back up or restore Atelier.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="write one archive: database dump, stored objects, manifest")
    create.add_argument("--out", type=Path, help="archive path (default: DATA_DIR/backups/atelier-<time>.zip)")
    restore = commands.add_parser("restore", help="restore an archive into an empty install")
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true",
                         help="replace the database of a non-empty install (stored objects are overwritten, "
                              "none deleted)")
    args = parser.parse_args(argv)
    try:
        if args.command == "create":
            from app.backup.create import create_backup

            create_backup(args.out)
        else:
            from app.backup.restore import restore_backup

            restore_backup(args.file, force=args.force)
    except BackupError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
