"""The staff sign-in backend moved (claims.admin_site -> claims.staff.site). Django keeps
the backend's dotted path in every signed-in session and signs out any session whose
path is no longer in AUTHENTICATION_BACKENDS, so the live sessions are told the new path.
"""

from django.db import migrations
from django.utils import timezone

OLD = "claims.admin_site.PermissionsModelBackend"
NEW = "claims.staff.site.PermissionsModelBackend"
BACKEND_KEY = "_auth_user_backend"  # django.contrib.auth.BACKEND_SESSION_KEY


def _rename(apps, schema_editor, old, new):
    from django.contrib.sessions.backends.db import SessionStore

    session_model = apps.get_model("sessions", "Session")
    store = SessionStore()
    live = session_model.objects.using(schema_editor.connection.alias).filter(
        expire_date__gt=timezone.now()
    )
    for session in live.iterator():
        data = store.decode(session.session_data)
        if data.get(BACKEND_KEY) == old:
            data[BACKEND_KEY] = new
            session.session_data = store.encode(data)
            session.save(update_fields=["session_data"])


def forwards(apps, schema_editor):
    _rename(apps, schema_editor, OLD, NEW)


def backwards(apps, schema_editor):
    _rename(apps, schema_editor, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0015_rulebook_reviews"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
