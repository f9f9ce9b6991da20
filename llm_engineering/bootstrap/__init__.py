"""The wiring: the one place that builds adapters from `Settings` and hands them to the use cases.

Every tool, step and bench gets its stores, crawlers, LLM clients, the RAG twin and SageMaker job code from here:
`stores` (the feature store the settings pick), `crawling` (a crawl run's dispatcher), `llm` (the LLM backend),
`twin` (the RAG core with its answering model), `sagemaker_jobs` (the code a SageMaker job runs) and
`warehouse_files` (the warehouse's JSON files: a folder or an S3 prefix). Adapters still
read their own settings (`from_settings`); choosing between them and assembling them happens only here.
"""
