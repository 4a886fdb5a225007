-- The floors' pilot group.
INSERT INTO pilot_groups (name, source) VALUES ('floor', 'csv') RETURNING id
