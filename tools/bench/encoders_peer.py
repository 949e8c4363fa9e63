#!/usr/bin/python3
"""The peers `charisbench models bench` is compared with on the real-shaped encoders
(tools/encoders/real_shaped.py): the same models run by PyTorch on a GPU, and the same ONNX
files run by ONNX Runtime on the CPU, each at its best plain settings and with nothing of
charisbench in between. Each loop does what a scoring batch loop does with ready pixels:
the batch goes from host memory to the engine, the outputs come back to host memory.

  torch-cuda the PyTorch modules the ONNX files were exported from (same seed, same
             weights), torch.inference_mode, cudnn.benchmark; float32 with TF32 off (the
             precision charisbench's GoMLX runtime computes in), and with TF32 on
             (torch-cpu: the same loop on the CPU, float32)
  onnxruntime-cpu an InferenceSession per file, CPUExecutionProvider, every core as intra-op
             threads, all graph optimisations

    python3 tools/bench/encoders_peer.py --models DIR [--batch 64] [--seconds 5]
        [--engines torch-cuda,onnxruntime-cpu] [--roles identity,clip_image]

Prints one JSON object a line: engine, role, batch, first_batch_s, batches, per_second.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "encoders"))

OUTPUTS = {"identity": "last_hidden_state", "clip_image": "image_embeds"}


def timed(run, batch, seconds):
    """First batch apart, then full batches until seconds have passed (at least three)."""
    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    n, t0 = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - t0 < seconds:
        run()
        n += 1
    return {"batch": batch, "first_batch_s": round(first, 3), "batches": n,
            "per_second": round(n * batch / (time.perf_counter() - t0), 1)}


def torch_loop(device, roles, batch, seconds):
    import torch
    from real_shaped import models
    ms = models()
    torch.backends.cudnn.benchmark = True
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32))
    for tf32 in (False, True) if device == "cuda" else (False,):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        for role in roles:
            m = ms[role].to(device)

            def run():
                with torch.inference_mode():
                    m(x.to(device)).cpu()  # .cpu() waits for the GPU

            r = timed(run, batch, seconds)
            name = torch.cuda.get_device_name(0) if device == "cuda" else f"{torch.get_num_threads()} threads"
            yield dict(engine=f"torch-{device}-" + ("tf32" if tf32 else "fp32"), role=role,
                       device=name, torch=torch.__version__, **r)
            m.cpu()


def onnxruntime_cpu(models_dir, roles, batch, seconds):
    import onnxruntime as ort
    x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32)
    for role in roles:
        so = ort.SessionOptions()
        so.intra_op_num_threads = os.cpu_count()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        s = ort.InferenceSession(os.path.join(models_dir, role + ".onnx"), so, providers=["CPUExecutionProvider"])
        r = timed(lambda: s.run([OUTPUTS[role]], {"pixel_values": x}), batch, seconds)
        yield dict(engine="onnxruntime-cpu", role=role, threads=os.cpu_count(), onnxruntime=ort.__version__, **r)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", required=True, help="the folder real_shaped.py wrote")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--engines", default="torch-cuda,onnxruntime-cpu")
    ap.add_argument("--roles", default="identity,clip_image")
    args = ap.parse_args()
    roles = args.roles.split(",")
    for role in roles:
        if role not in OUTPUTS:
            sys.exit(f"encoders_peer: --roles: {role} is not an image encoder of real_shaped.py")
    for engine in args.engines.split(","):
        if engine in ("torch-cuda", "torch-cpu"):
            rows = torch_loop(engine.removeprefix("torch-"), roles, args.batch, args.seconds)
        elif engine == "onnxruntime-cpu":
            rows = onnxruntime_cpu(args.models, roles, args.batch, args.seconds)
        else:
            sys.exit(f"encoders_peer: unknown engine {engine}")
        for row in rows:
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
