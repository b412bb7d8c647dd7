"""The CapabilityStatement at /fhir/metadata, derived from what the code serves (the resource types the
selectors read, the search parameters params.py accepts), so it cannot claim more than we implement."""

from ketaclinic.interop.fhir.params import PAGING, SUPPORTED
from ketaclinic.interop.fhir.resources.common import Resource
from ketaclinic.interop.fhir.selectors import SYSTEM_TYPES, TYPE_PERMS

FHIR_VERSION = "4.0.1"
SEARCH_PARAMETER_DOCS = {
    "_count": "Page size (0 to 500, default 50).",
    "_offset": "Index of the first match on the page (the next and previous links carry it).",
}

SECURITY = (
    "Staff sign in (session, with their second factor) or send `Authorization: Bearer <token>` "
    "(their own API token, or an integration account's). What each role reads follows the clinic's "
    "permission table; other clinics' records are not found. A FHIR client integration account "
    "holds the SMART backend-services style scopes "
)
SECURITY_TOKENS = " (its tokens are issued by a clinic admin; there is no OAuth token endpoint)."


def system_scopes() -> list[str]:
    """The SMART backend-services scopes a FHIR client integration account holds (read-only)."""
    return [f"system/{resource_type}.read" for resource_type in TYPE_PERMS if resource_type in SYSTEM_TYPES]


def capability_statement(*, base_url: str, software_version: str, date: str) -> Resource:
    """The server's CapabilityStatement (unvalidated)."""
    resources: list[Resource] = []
    for resource_type, parameters in SUPPORTED.items():
        entry: Resource = {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": name, "type": kind} for name, kind in parameters.items()]
            + [
                {"name": name, "type": "number", "documentation": SEARCH_PARAMETER_DOCS[name]}
                for name in sorted(PAGING)
            ],
        }
        if resource_type == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    "documentation": "The patient, their record (what your role may read) and the staff it "
                    "names, as a searchset Bundle paged by _count (the next link carries the _page "
                    "cursor); the staff a page names are its include entries. Notes are never included.",
                }
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "ketaclinic",
        "kind": "instance",
        "software": {"name": "ketaclinic", "version": software_version},
        "implementation": {"description": "ketaclinic FHIR R4 read and search API", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read and search only; no writes, no history, no _include.",
                "security": {
                    "cors": False,
                    "description": SECURITY + " ".join(system_scopes()) + SECURITY_TOKENS,
                },
                "resource": resources,
            }
        ],
    }
