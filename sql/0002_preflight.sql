-- The latest pre-flight result of each group member: the checks made in
-- Microsoft Graph before a move (or in a dry run of a group or wave).
CREATE TABLE preflight_results (
    member_id  bigint      PRIMARY KEY REFERENCES group_members (id),
    checked_at timestamptz NOT NULL,
    status     text        NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
    checks     jsonb       NOT NULL
);
