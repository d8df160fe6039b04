package dev.iommulab.hw.pci;

/**
 * Snapshot of a function's PRI capability (PCIe PRI control and status registers).
 *
 * @param enabled            control Enable
 * @param responseFailure    status RF: a Response Failure was received
 * @param unexpectedPrgIndex status UPRGI: a response named a group that was not outstanding
 * @param stopped            status Stopped: Enable clear and no page request outstanding (sent and not
 *                           answered); pci_enable_pri() requires it. Queued requests not sent yet do not count
 * @param allocation         Outstanding Page Request Allocation programmed by software
 * @param creditsInUse       page requests sent and not yet answered
 */
public record PriState(boolean enabled, boolean responseFailure, boolean unexpectedPrgIndex, boolean stopped,
                       int allocation, int creditsInUse) {
}
