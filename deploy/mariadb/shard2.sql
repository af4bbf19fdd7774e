-- MariaDB server shard2 of the compose cluster (docker-compose.yml): customer 80- and lookup 80-.
-- Run once by the mariadb image's entrypoint on an empty data dir (/docker-entrypoint-initdb.d),
-- as root, before the server accepts TCP clients (so before its healthcheck passes).
-- The proxy's backend account holds data privileges on its databases only (README,
-- "Least-privilege backend account"); _shardgate keeps the lookup-vindex workflows' state.
CREATE USER 'shardgate'@'%' IDENTIFIED BY 'shardgate-secret';
CREATE DATABASE vt_customer;
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE TEMPORARY TABLES,
      LOCK TABLES ON `vt_customer`.* TO 'shardgate'@'%';
CREATE DATABASE vt_lookup;
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE TEMPORARY TABLES,
      LOCK TABLES ON `vt_lookup`.* TO 'shardgate'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE TEMPORARY TABLES,
      LOCK TABLES ON `_shardgate`.* TO 'shardgate'@'%';
-- The example tables (schema/ of the repository, mounted at /schema), as `shardgate local`
-- applies them.
USE vt_customer;
SOURCE /schema/customer.sql;
USE vt_lookup;
SOURCE /schema/lookup.sql;
