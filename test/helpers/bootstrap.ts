/** SPEC 5.4: the keys of a bootstrap check's JSON form, in order. */
export const SPEC_5_4_KEYS = ['binary', 'normalized', 'fromHeight', 'toHeight', 'mayExecute', 'silentForkRisk', 'unknown', 'componentMismatch', 'verdict'];

/** What `bootstrap-check --json` adds after them (its `ranges` last). */
export const EXPLAINED_KEYS = [...SPEC_5_4_KEYS, 'belowRequired', 'finalizedRange', 'outsideFinalizedRange'];
