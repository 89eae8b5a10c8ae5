// Types of /errors.js, which the appliance makes from its error-code table (src/web/static.ts).
/** code → the words the page shows for it (upload reasons). */
export const REASONS: Readonly<Record<string, string>>;
