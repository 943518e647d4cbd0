-- PixyProxy: 2/3, the application user, with least privilege.
--
-- DML (SELECT, INSERT, UPDATE, DELETE) on the pixyproxy schema only: no `ON *.*`,
-- no DDL (the tables are created by an admin running 003_tables.sql / `pixyproxy init-db`).
--
-- The password below is a PLACEHOLDER. Change it before running this script by hand
-- or from docker's /docker-entrypoint-initdb.d. `pixyproxy init-db` never uses it:
-- by default it skips this script altogether; when asked to create the app user
-- (apply_mysql_schema(..., create_app_user=True, app_password=...)) it binds the user
-- name, host and password as parameters in place of the quoted literals below.
-- CREATE USER IF NOT EXISTS leaves an existing user's password unchanged.

CREATE USER IF NOT EXISTS 'pixyproxy'@'%' IDENTIFIED BY 'change-me-placeholder';

GRANT SELECT, INSERT, UPDATE, DELETE ON `pixyproxy`.* TO 'pixyproxy'@'%';
