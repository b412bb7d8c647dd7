"""The public site's shipped pages (version 1 of each), so a new installation has a site before anyone edits it."""

from typing import Any

from django.db import migrations
from django.utils import timezone


def create_pages(apps: Any, schema_editor: Any) -> None:
    from ketaclinic.portal.site_defaults import default_pages

    page_model = apps.get_model("portal", "PublicPage")
    version_model = apps.get_model("portal", "PublicPageVersion")
    now = timezone.now()
    for position, default in enumerate(default_pages(), start=1):
        page, made = page_model.objects.get_or_create(slug=default.slug, defaults={"position": position * 10})
        if made:
            version_model.objects.create(
                page=page,
                version=1,
                title=default.title,
                summary=default.summary,
                body=default.body,
                edited_at=now,
            )


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunPython(create_pages, migrations.RunPython.noop)]
