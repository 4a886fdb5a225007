-- Each worker process's last check of its host: PowerShell, modules, server
-- build, TLS 1.2, sign-in. A host that fails takes no moves.
CREATE TABLE worker_hosts (
    id         text        PRIMARY KEY, -- the worker process (host name and process ID)
    host       text        NOT NULL,
    ready      boolean     NOT NULL,
    facts      jsonb       NOT NULL,
    checks     jsonb       NOT NULL,
    checked_at timestamptz NOT NULL
);

-- Conditions of the whole deployment that stop every move start until they
-- clear (a sign-in that fails, no ready worker host): one row per kind.
CREATE TABLE deployment_holds (
    code     text        PRIMARY KEY,
    reason   text        NOT NULL,
    evidence text        NOT NULL,
    since    timestamptz NOT NULL DEFAULT now(),
    set_by   text        NOT NULL
);

-- The deployment's hybrid readiness beyond its hosts, by section (the
-- on-premises configuration, DNS), as a worker last checked it.
CREATE TABLE readiness_checks (
    section    text        PRIMARY KEY,
    checks     jsonb       NOT NULL,
    checked_at timestamptz NOT NULL,
    checked_by text        NOT NULL
);

-- A lead may start a wave although a hybrid readiness check that blocks
-- moves fails (recorded in the audit log and the wave's timeline).
ALTER TABLE waves ADD COLUMN readiness_override boolean NOT NULL DEFAULT false;

-- A lead's request that every worker check its host (and the hybrid
-- configuration) now, rather than at its next turn: one row.
CREATE TABLE readiness_requests (
    id           int         PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    requested_at timestamptz NOT NULL,
    requested_by text        NOT NULL
);

-- Each member's Enterprise Voice settings on premises, as a worker last read
-- them (Get-CsUser -Filter {EnterpriseVoiceEnabled -eq $True}): the dry run
-- lists voice users and their numbers before anyone moves.
ALTER TABLE group_members
    ADD COLUMN enterprise_voice boolean,
    ADD COLUMN line_uri         text,
    ADD COLUMN voice_read_at    timestamptz;
