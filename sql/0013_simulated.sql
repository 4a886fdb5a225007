-- Whether the deployment's on-premises shell and Microsoft Graph are the
-- simulated tenant's, as the last `cutover serve` (or demo) to start said:
-- every page, the API's /api/v1/me and the command line say so.
ALTER TABLE deployment_settings
    ADD COLUMN simulated_shell boolean NOT NULL DEFAULT false,
    ADD COLUMN simulated_graph boolean NOT NULL DEFAULT false;
