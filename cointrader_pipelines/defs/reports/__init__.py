"""Weekly strategy report: asset and its report-only schedule."""
