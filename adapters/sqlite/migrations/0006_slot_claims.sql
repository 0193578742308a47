-- jobs-sqlite schema version 6: a concurrency slot is held under the claim that took it.
--
-- A job whose run lost its lease (its worker cut off, frozen or starved of heartbeats) is rescued
-- and run again, and the rerun takes the job's slot again. The stale run's release used to delete
-- the slot by key and holder alone, the slot the rerun now held, so one more job of the key ran.
-- Each slot now keeps the fencing token of the claim that took it (or took it again last), and a
-- release deletes it only under that token. Slots taken before this version keep token 0, which
-- no claim has: the processes of the previous build that took them release them as they did, and
-- any other one frees at the end of its hold time.
ALTER TABLE jobs_flow_slots ADD COLUMN token INTEGER NOT NULL DEFAULT 0;
