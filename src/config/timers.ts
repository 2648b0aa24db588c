/** setTimeout's longest delay: a larger one fires at once, so no timing limit may exceed it. */
export const maxTimerDelayMs = 2_147_483_647;
