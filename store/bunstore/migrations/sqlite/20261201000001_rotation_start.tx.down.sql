ALTER TABLE rotation_plans DROP COLUMN start_on;
