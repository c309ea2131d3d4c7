DROP TABLE IF EXISTS slug_aliases;
