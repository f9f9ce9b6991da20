"""The SageMaker training job's entry script: copied to the root of the job's code by `stage_job_code`."""

from llm_engineering.model.finetuning.sagemaker_entry import main

if __name__ == "__main__":
    raise SystemExit(main())
