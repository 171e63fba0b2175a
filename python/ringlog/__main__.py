"""python3 -m ringlog dump NAME|FILE [--json]  |  stats NAME|FILE  |  info NAME|FILE"""

import json
import sys

from . import Entry, Gap, Reader, RinglogError


def main(argv):
    if len(argv) < 2 or argv[0] not in ("dump", "stats", "info"):
        print("usage: python3 -m ringlog dump NAME|FILE [--json] | stats NAME|FILE | "
              "info NAME|FILE", file=sys.stderr)
        return 2
    cmd, name = argv[0], argv[1]
    as_json = "--json" in argv[2:]
    try:
        with Reader(name, gaps=True) as r:
            if cmd == "info":
                print(json.dumps(r.info()))
            elif cmd == "stats":
                print(json.dumps(r.stats()))
            else:
                for x in r:
                    if isinstance(x, Gap):
                        print(json.dumps({"gap": x.first, "count": x.count}) if as_json
                              else f"-- {x.count} entries lost (index {x.first}..{x.first + x.count - 1}) --")
                    elif as_json:
                        d = x.as_dict()
                        d["message"] = x.message if x.message is not None else x.raw.hex()
                        print(json.dumps(d))
                    else:
                        msg = x.message if x.message is not None else x.raw.hex()
                        print(f"{x.time.isoformat()} lane{x.lane} {x.level:<8} pid={x.pid} "
                              f"tid={x.tid} {msg}")
    except RinglogError as e:
        print(f"ringlog: {cmd}: {name}: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
