from django.db import migrations

# A national analyst sees aggregate returns for every authority; a membership would add person-level
# access in one of them. The application refuses one (registers.access.refuse_national_member) and
# never merges one into a national scope; the database refuses one as well, from both sides: a
# membership for a national analyst, and flagging as national someone who holds a membership.
# (The second check sees the memberships the row-level policy shows the statement: all of them in
# migrations and management commands, which run across tenants.)
FORWARD = """
CREATE FUNCTION accounts_membership_not_national() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM accounts_user WHERE id = NEW.user_id AND is_national_analyst) THEN
        RAISE EXCEPTION 'a national analyst cannot hold a membership of an authority'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_membership_not_national BEFORE INSERT OR UPDATE ON accounts_membership
    FOR EACH ROW EXECUTE FUNCTION accounts_membership_not_national();

CREATE FUNCTION accounts_user_national_without_membership() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM accounts_membership WHERE user_id = NEW.id) THEN
        RAISE EXCEPTION 'a member of an authority cannot be made a national analyst'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_user_national_without_membership
    BEFORE INSERT OR UPDATE OF is_national_analyst ON accounts_user
    FOR EACH ROW WHEN (NEW.is_national_analyst)
    EXECUTE FUNCTION accounts_user_national_without_membership();
"""
REVERSE = """
DROP TRIGGER IF EXISTS accounts_user_national_without_membership ON accounts_user;
DROP FUNCTION IF EXISTS accounts_user_national_without_membership();
DROP TRIGGER IF EXISTS accounts_membership_not_national ON accounts_membership;
DROP FUNCTION IF EXISTS accounts_membership_not_national();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_row_level_security")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
