-- jobs-postgres schema version 2: find a job by the Active Job job_id that perform_later
-- returned; a retry_on retry is a new row with the same job_id, so the index is not unique.
CREATE INDEX jobs_job_id ON {schema}.jobs (job_id, id) WHERE job_id IS NOT NULL;
