"""python -m samples.synth --out DIR --count N --seed S [--kinds ...] [--templates ...]"""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
