-- Schema of the example `lookup` keyspace (sharded: name_user_vdx by unicode_loose_md5 of name,
-- phone_user_vdx by hash of phone), applied on every shard by `shardgate local` at start.
-- These are the lookup tables of customer.user's consistent lookup vindexes; the proxy writes
-- them when it writes customer.user. name has the owner column's collation (utf8mb4_general_ci,
-- as customer.user.name), so the lookup's unique key agrees with the owner about equal names.
-- unicode_loose_md5 is not exact for utf8mb4_general_ci ('s' = 'ß' there, but they get different
-- keyspace ids), so the proxy reads name_user_vdx on every lookup shard instead of the shard of
-- the name (see README, "A string vindex routes only where it agrees with its column's collation").
CREATE TABLE IF NOT EXISTS name_user_vdx (
  name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  id BIGINT NOT NULL,
  keyspace_id VARBINARY(128),
  PRIMARY KEY (name, id)
);
CREATE TABLE IF NOT EXISTS phone_user_vdx (
  phone BIGINT NOT NULL,
  keyspace_id VARBINARY(128),
  PRIMARY KEY (phone)
);
