-- The address leads reach cutover's pages at, shared by every process:
-- notifications link to a wave's page with it, and the sign-in's redirect
-- is made from it. `cutover serve --public-url` sets it.
ALTER TABLE deployment_settings ADD COLUMN public_url text NOT NULL DEFAULT '';
