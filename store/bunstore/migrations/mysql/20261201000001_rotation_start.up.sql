ALTER TABLE rotation_plans ADD COLUMN start_on DATE;
