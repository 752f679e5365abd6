-- SQLite's UNIQUE treats NULLs as distinct, so "all sites"/"all products" rights (NULL) were inserted
-- again by every `admin create`. Keep one row of each right, then make the rule hold with NULLs too.
DELETE FROM app_admins
WHERE rowid NOT IN (
    SELECT MIN(rowid) FROM app_admins
    GROUP BY org_id, admin_id, IFNULL(cloud_id, ''), IFNULL(product, '')
);
CREATE UNIQUE INDEX app_admins_one_right
    ON app_admins (org_id, admin_id, IFNULL(cloud_id, ''), IFNULL(product, ''));
