"""Remote image providers (A1111, ComfyUI, OpenAI, Stability, Bedrock, fal, Replicate)."""
