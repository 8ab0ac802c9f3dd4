"""Staff roles as groups with exactly the rights of DESIGN.md.

The mapping is written out here, not imported, so this migration means the
same thing forever; a later change of rights is a later migration.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_CASEWORK = [
    "view_scheme",
    "view_distressband",
    "view_registerentry",
    "view_claim",
    "view_headofloss",
    "view_evidence",
    "view_offer",
    "view_offeritem",
    "view_auditevent",
    "view_internalnote",
    "view_statusupdate",
]
CASEWORKER = [
    *VIEW_CASEWORK,
    "triage_claim",
    "assess_claim",
    "propose_offer",
    "add_note",
]
ROLE_PERMISSIONS = {
    "Caseworker": CASEWORKER,
    "Senior caseworker": [*CASEWORKER, "approve_offer", "decide_review"],
    "Finance officer": [
        "view_scheme",
        "view_claim",
        "view_offer",
        "view_offeritem",
        "view_auditevent",
        "view_payment_details",
        "manage_payments",
    ],
    "Scheme administrator": [
        "view_scheme",
        "add_scheme",
        "change_scheme",
        "view_distressband",
        "add_distressband",
        "change_distressband",
        "delete_distressband",
        "view_registerentry",
        "add_registerentry",
        "change_registerentry",
        "view_claim",
        "view_statusupdate",
        "configure_scheme",
        "import_register",
        "send_notices",
        "view_reports",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now so the
    # groups can hold them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="claims", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for {name}: {sorted(missing)}")
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
