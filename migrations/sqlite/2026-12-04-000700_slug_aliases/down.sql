DROP TABLE slug_aliases;
