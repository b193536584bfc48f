"""`python3 -m onnxopt ARGS`: the onnx-opt command, for people without the
binary on PATH (the same driver, in process)."""
import sys

from . import _onnxopt


def main():
    code, _, _ = _onnxopt.run(sys.argv[1:], False)
    return code


if __name__ == "__main__":
    sys.exit(main())
