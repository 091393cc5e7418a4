export function dashboardPage(): string { return '<!doctype html><title>Ringleader</title><h1>Ringleader</h1>'; }
