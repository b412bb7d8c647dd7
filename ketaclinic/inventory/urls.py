from django.urls import URLPattern, URLResolver, path

from ketaclinic.inventory.views import reports, stock

app_name = "inventory"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", stock.dashboard, name="dashboard"),
    path("products/", stock.products, name="products"),
    path("locations/", stock.locations, name="locations"),
    path("receive/", stock.receive, name="receive"),
    path("transfer/", stock.transfer, name="transfer"),
    path("draw/", stock.draw, name="draw"),
    path("waste/", stock.waste, name="waste"),
    path("remove/", stock.remove, name="remove"),
    path("counts/", stock.count_list, name="count_list"),
    path("counts/new/", stock.count_new, name="count_new"),
    path("counts/<int:count_id>/", stock.count_detail, name="count_detail"),
    path("discrepancies/", stock.discrepancy_list, name="discrepancy_list"),
    path("discrepancies/<int:discrepancy_id>/", stock.discrepancy_detail, name="discrepancy_detail"),
    path("vials/<int:vial_id>/", stock.vial_detail, name="vial_detail"),
    path("ledger/<int:product_id>/", stock.ledger, name="ledger"),
    path("verify/", stock.verify, name="verify"),
    path("reports/", reports.report_index, name="reports"),
    path("reports/log/<int:product_id>/", reports.dispensing_log, name="log"),
    path("reports/log/<int:product_id>.csv", reports.dispensing_log, {"output": "csv"}, name="log_csv"),
    path("reports/log/<int:product_id>.pdf", reports.dispensing_log, {"output": "pdf"}, name="log_pdf"),
    path("reports/inventory/<int:count_id>/", reports.inventory_report, name="inventory_report"),
    path(
        "reports/inventory/<int:count_id>.csv",
        reports.inventory_report,
        {"output": "csv"},
        name="inventory_report_csv",
    ),
    path(
        "reports/inventory/<int:count_id>.pdf",
        reports.inventory_report,
        {"output": "pdf"},
        name="inventory_report_pdf",
    ),
    path("reports/form-106/<int:discrepancy_id>/", reports.form_106, name="form_106"),
    path(
        "reports/form-106/<int:discrepancy_id>.csv", reports.form_106, {"output": "csv"}, name="form106_csv"
    ),
    path(
        "reports/form-106/<int:discrepancy_id>.pdf", reports.form_106, {"output": "pdf"}, name="form106_pdf"
    ),
]
