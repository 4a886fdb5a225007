-- A Microsoft side that stops answering is a hold of the deployment, and no
-- user pays for the time it lasted (issue 26).

-- Every hold that has ended, so that a wait measured for a user (the
-- provisioning wait, a licence's settle time) leaves out the time the
-- deployment was held. A hold still set is in deployment_holds.
CREATE TABLE deployment_hold_history (
    id       bigserial PRIMARY KEY,
    code     text NOT NULL,
    reason   text NOT NULL,
    evidence text NOT NULL,
    since    timestamptz NOT NULL,
    until    timestamptz NOT NULL DEFAULT now(),
    set_by   text NOT NULL
);
CREATE INDEX deployment_hold_history_until_idx ON deployment_hold_history (until);

-- When Teams first answered, in this run of the move and after its move
-- call, that the user is not a Teams user yet: the provisioning wait counts
-- from there (time in which Teams was not asked is not the user's), less
-- the time the deployment was held. A new run waits afresh.
ALTER TABLE moves ADD COLUMN teams_waiting_since timestamptz;
