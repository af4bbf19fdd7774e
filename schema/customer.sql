-- Schema of the example `customer` keyspace (sharded by hash of user.id), applied on every
-- shard by `shardgate local` at start. name and phone are looked up through the `lookup`
-- keyspace (vschema/customer.json); lookup.name_user_vdx.name has the same collation as name.
CREATE TABLE IF NOT EXISTS user (
  id BIGINT NOT NULL,
  name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
  phone BIGINT,
  email VARCHAR(255),
  PRIMARY KEY (id),
  UNIQUE KEY phone (phone)
);
