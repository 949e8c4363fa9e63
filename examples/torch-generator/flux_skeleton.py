#!/usr/bin/env python3
"""Skeleton: a diffusers FLUX + LoRA pipeline as a charisbench exec generator (protocol 2).

Not run by charisbench's tests (it needs FLUX weights and a GPU); it shows where a real
pipeline plugs into the protocol that generator.py implements in full. Fill in the three
marked functions. Declare it in ablations.yaml as

    - name: flux
      type: exec
      protocol: 2
      command: [python3, flux_skeleton.py, --model, black-forest-labs/FLUX.1-dev]
      samples_per_prompt: 4
      settings: {steps: 1000, lr: 1e-4, rank: 16, alpha: 16, resolution: 512}

and the grid's loss / lora_layers / rank reach train() in req["settings"].
"""
import argparse
import json
import sys


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def train(req, args):
    """Fine-tune LoRA adapters and save them in req["checkpoint"].

    - Load the base: FluxPipeline.from_pretrained(args.model, torch_dtype=torch.bfloat16).
    - Add adapters with peft's LoraConfig(r=settings["rank"], lora_alpha=settings["alpha"],
      target_modules=...) chosen from settings["lora_layers"]: "attn" -> the attention
      projections (to_q, to_k, to_v, to_out.0), "ffn" -> the feed-forward (ff.net.0.proj,
      ff.net.2), "modulation" -> the adaLN norm linears (norm1.linear, norm1_context.linear).
    - Data: req["data"] is a manifest of (reference, prompt, generated = target) rows. Encode
      both images with the VAE; pack the noisy target latent and the clean reference latent
      side by side along the width (latent concatenation), with position ids that keep the
      two halves apart.
    - Loss: flow matching on the packed sequence; with settings["loss"] == "masked" average
      the squared error over the target half only, with "full" over both halves.
    - Every so often: send({"type": "progress", "id": req["id"], "done": step, "total": steps}).
    - Save: pipe.save_lora_weights(req["checkpoint"], ...).
    """
    raise NotImplementedError("fill in train() for your FLUX pipeline")


def generate(req, args):
    """Generate one image for req["reference"] and req["prompt"] with req["seed"].

    Load (and cache across requests) the pipeline with the LoRA weights of req["checkpoint"];
    sample with torch.Generator(device).manual_seed(req["seed"]) holding the reference half of
    the canvas clean at every step; save a PNG to req["out"].
    """
    raise NotImplementedError("fill in generate() for your FLUX pipeline")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    for line in sys.stdin:
        req = json.loads(line)
        if req["type"] == "hello":
            send({"type": "hello", "protocol": 2, "capabilities": ["train", "generate", "progress"]})
            continue
        try:
            if req["type"] == "train":
                train(req, args)
                send({"type": "done", "id": req["id"]})
            elif req["type"] == "generate":
                generate(req, args)
                send({"type": "image", "id": req["id"], "image": req["out"]})
        except Exception as e:  # one sample's failure is that sample's error
            send({"type": "error", "id": req["id"], "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
