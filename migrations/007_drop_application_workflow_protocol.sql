-- Protocol 1 of the application workflows is retired (the engine was never released with it):
-- every application's verify and uploads go to the person's workflow, so the API no longer
-- needs to know which protocol an application speaks.
ALTER TABLE applications DROP COLUMN workflow_protocol;
