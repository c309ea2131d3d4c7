-- MariaDB widened its gateway id columns here; these are TEXT already.
SELECT 1;
