"""What a run leaves behind, all written from its one result, ``conformance.json``: conformance.md, junit.xml,
Allure results per requirement, conformance.html, the console's closing lines, and the HAR file of its
exchanges (written as they happen)."""
