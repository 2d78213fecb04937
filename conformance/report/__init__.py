"""What a run leaves behind: ``conformance.json``, ``conformance.md``, Allure labels and attachments."""
