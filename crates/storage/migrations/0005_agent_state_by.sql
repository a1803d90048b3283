-- The supervisor or admin who put an agent in a state (paused, ready,
-- logged out) from the supervisor's console; NULL when the agent chose it
-- or when the state came from a call, after-call work or a restart.

ALTER TABLE agent_state_log ADD COLUMN changed_by TEXT;
