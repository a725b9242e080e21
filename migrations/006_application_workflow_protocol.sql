-- Which protocol the application's workflows speak, so the API sends each request where it
-- belongs: 1 = verify and uploads go to the application workflow, which forwards them to its
-- person workflows by signal (applications started before this migration); 2 = they go to the
-- person workflow directly. The workflow writes 2 when it opens the application.
ALTER TABLE applications ADD COLUMN workflow_protocol SMALLINT NOT NULL DEFAULT 1;
