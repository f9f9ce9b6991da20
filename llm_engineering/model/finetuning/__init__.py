"""Fine-tuning: run config, dataset adapters, SFT/DPO with LoRA (TRL + PEFT; Unsloth on CUDA), SageMaker entry."""
