"""The OpenVINO export job, run as a script by the export toolchain's Python (requirements/openvino-export.txt).

optimum-intel pins an older transformers than the project's own, so the export runs in its own environment. This file
imports nothing from the project: `python openvino_export_job.py SOURCE TARGET WEIGHT_FORMAT` writes the OpenVINO IR
of the model folder SOURCE (weights compressed by NNCF), its tokenizer and detokenizer models and its tokenizer
files into TARGET, which must not exist yet.
"""

import argparse
import sys
import time
from pathlib import Path

# int4 on a small model: group size 64 divides the hidden sizes of small Llama-family models (576 for 135M).
INT4_GROUP_SIZE = 64


def export(source: Path, target: Path, weight_format: str) -> None:
    """Export, compress and save; the tokenizer models are what OpenVINO GenAI loads beside the IR."""
    import openvino as ov
    from openvino_tokenizers import convert_tokenizer
    from optimum.intel import OVModelForCausalLM, OVWeightQuantizationConfig
    from transformers import AutoTokenizer

    options: dict[str, object] = {}
    if weight_format == "int8":
        options["quantization_config"] = OVWeightQuantizationConfig(bits=8)
    elif weight_format == "int4":
        options["quantization_config"] = OVWeightQuantizationConfig(bits=4, group_size=INT4_GROUP_SIZE, ratio=1.0)
    else:
        options["load_in_8bit"] = False  # otherwise optimum compresses models over 1B parameters to int8 by itself
    model = OVModelForCausalLM.from_pretrained(source, export=True, compile=False, **options)
    if weight_format == "fp16":
        model.half()
    model.save_pretrained(target)
    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.save_pretrained(target)
    ov_tokenizer, ov_detokenizer = convert_tokenizer(tokenizer, with_detokenizer=True)
    ov.save_model(ov_tokenizer, target / "openvino_tokenizer.xml")
    ov.save_model(ov_detokenizer, target / "openvino_detokenizer.xml")


def main() -> int:
    """Parse the arguments and export; exit 0 on success, 2 on a bad argument."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, help="a transformers model folder (config.json, safetensors, tokenizer)")
    parser.add_argument("target", type=Path, help="the folder to write (must not exist)")
    parser.add_argument("weight_format", choices=["int8", "int4", "fp16", "fp32"])
    args = parser.parse_args()
    if args.target.exists():
        parser.error(f"{args.target} exists already")
    started = time.monotonic()
    export(args.source, args.target, args.weight_format)
    sys.stderr.write(f"exported {args.source} as {args.weight_format} in {time.monotonic() - started:.1f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
