-- PixyProxy: 1/3, the database.
--
-- Usable as is with the mysql/mariadb client (`mariadb -uroot < sql/001_database.sql`)
-- and from docker's /docker-entrypoint-initdb.d. `pixyproxy init-db` applies it to the
-- configured DB_NAME: every `pixyproxy` written in backticks below is the database name
-- and is replaced by DB_NAME; nothing else is.
-- utf8mb4_unicode_ci exists on both MariaDB 10.11 and MySQL 8.

CREATE DATABASE IF NOT EXISTS `pixyproxy`
    CHARACTER SET utf8mb4
    COLLATE utf8mb4_unicode_ci;
