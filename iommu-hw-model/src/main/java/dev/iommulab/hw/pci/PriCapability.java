package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.sim.Layer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The PRI capability of a function (PCIe Page Request Interface; Linux {@code PCI_PRI_CTRL} /
 * {@code PCI_PRI_STATUS}) and its bookkeeping of page request groups (reference §1.4):
 * <ul>
 *   <li>Enable: page requests go out only while set and RF is clear. Setting it (0→1) clears RF and UPRGI:
 *       re-enabling is the documented recovery after a Response Failure (§1.4, §6 scenario 43).</li>
 *   <li>Reset: acts only while Enable is clear; clears RF, UPRGI, the credit counter and all pending request
 *       state (sent and unsent groups). Ignored while enabled, as Linux pci_reset_pri() only writes it then.</li>
 *   <li>Stopped: Enable clear and no page request outstanding; pci_enable_pri() needs it. PRG responses to
 *       outstanding groups are still accepted while Enable is clear, so a disabled function drains to
 *       Stopped (PCIe: requests complete when their response arrives or on Reset).</li>
 *   <li>RF: set by a response coded 1111b or any unused code; the function then ignores every PRG response
 *       and sends nothing until re-enabled, Reset or FLR.</li>
 *   <li>UPRGI: a response whose PRG index matches no sent request; the response is otherwise ignored.</li>
 *   <li>Credits: every Page Request takes one of the Outstanding Page Request Allocation (capped by the
 *       advertised Capacity); the group's response returns all of them; Stop Markers take none (§6 scenario 45).
 *       A group the function builds itself is sent only when credits for all its requests are free, so it
 *       never sits half-sent (its first requests parked as partials at the host) while waiting for credits.</li>
 *   <li>PRG Response PASID Required: when set, a response matches a PASID-tagged group only if it carries that
 *       PASID; one without it (undefined behaviour in PCIe r4.0 §10.5.2.3) counts as unexpected (UPRGI). When
 *       clear, a PASID on a response is ignored (also undefined by PCIe; this model tolerates it).</li>
 * </ul>
 */
final class PriCapability {

    /** Who waits for a group: told its response code, or that it will never be answered. */
    interface GroupListener {
        void answered(PrgResponseCode code);

        /** The group will not be answered to anyone: Reset, FLR, a PASID stop or a Response Failure. */
        void abandoned();
    }

    private final PcieEndpoint ep;
    private final PriGroups groups = new PriGroups();
    private final List<Consumer<PrgResponse>> responseListeners = new ArrayList<>();
    private boolean enabled;
    private boolean responseFailure;
    private boolean unexpectedPrgIndex;
    private int allocation;
    private int creditsInUse;
    private int creditHighWater;
    private int creditOverruns;
    private int nextPrgi;

    PriCapability(PcieEndpoint ep) {
        this.ep = ep;
    }

    void enable(int requestedAllocation) {
        allocation = Math.max(0, Math.min(requestedAllocation, ep.config().priCapacity()));
        if (!enabled) {
            responseFailure = false;
            unexpectedPrgIndex = false;
        }
        enabled = true;
        pump();
    }

    void disable() {
        enabled = false;
    }

    /** PRI control Reset; returns false (no effect) while Enable is set. */
    boolean reset() {
        if (enabled) {
            trace("%s: PRI Reset ignored while Enable is set", ep.config().name());
            return false;
        }
        clearPendingState();
        trace("%s: PRI Reset clears RF, UPRGI, credits and pending requests", ep.config().name());
        return true;
    }

    /** Function Level Reset: the capability returns to its power-on state. */
    void functionLevelReset() {
        enabled = false;
        allocation = 0;
        clearPendingState();
    }

    private void clearPendingState() {
        responseFailure = false;
        unexpectedPrgIndex = false;
        creditsInUse = 0;
        groups.clear().forEach(PriCapability::notifyAbandoned);
    }

    PriState state() {
        return new PriState(enabled, responseFailure, unexpectedPrgIndex, !enabled && creditsInUse == 0, allocation,
                creditsInUse);
    }

    int creditHighWater() {
        return creditHighWater;
    }

    /** Page requests sent while more than the allocation was outstanding (a compliant function has none). */
    int creditOverruns() {
        return creditOverruns;
    }

    boolean usable() {
        return enabled && !responseFailure;
    }

    void addResponseListener(Consumer<PrgResponse> listener) {
        responseListeners.add(listener);
    }

    /** The next Page Request Group Index no known group uses, or -1 when all 512 are in use. */
    int allocatePrgi() {
        for (int i = 0; i <= PageRequestMessage.PRGI_MASK; i++) {
            int prgi = (nextPrgi + i) & PageRequestMessage.PRGI_MASK;
            if (!groups.inUse(prgi)) {
                nextPrgi = (prgi + 1) & PageRequestMessage.PRGI_MASK;
                return prgi;
            }
        }
        return -1;
    }

    /** One request (or Stop Marker) sent as software or a scenario asks; it takes its credit on its own. */
    void sendOne(PageRequestMessage message, GroupListener listener) {
        groups.enqueue(List.of(message), listener, () -> { });
        pump();
    }

    /** A whole group the function built (same PRGI, L on the last), admitted only with all its credits. */
    void sendGroup(List<PageRequestMessage> messages, GroupListener listener) {
        groups.enqueue(messages, listener, () -> { });
        pump();
    }

    private void pump() {
        PriGroups.Unit next;
        while (usable() && (next = groups.nextSendable(allocation - creditsInUse)) != null) {
            groups.sent(next);
            for (PageRequestMessage m : next.messages()) {
                transmit(m);
            }
            next.onSent().run();
        }
    }

    private void transmit(PageRequestMessage m) {
        if (!m.isStopMarker()) {
            creditsInUse++;
            creditHighWater = Math.max(creditHighWater, creditsInUse);
            if (creditsInUse > allocation) {
                creditOverruns++;
            }
        }
        if (ep.loop().trace().enabled()) { // the PASID part is a string built for the message
            trace("%s sends %s PRGI %d addr %#x%s%s", ep.config().name(),
                    m.isStopMarker() ? "Stop Marker" : "Page Request", m.prgi(), m.pageAddr(),
                    m.pasidPresent() ? " PASID " + m.pasid() : "", m.last() ? " (LPIG)" : "");
        }
        ep.loop().schedule(ep.timing().pcieTlpNs(), "page-request", () -> ep.iommu().pageRequest(m));
    }

    /** A PRG Response Message arrives. */
    void onResponse(PrgResponse response) {
        responseListeners.forEach(l -> l.accept(response));
        String name = ep.config().name();
        if (responseFailure) {
            trace("%s ignores PRG response PRGI %d (PRI stopped by Response Failure)", name, response.prgi());
            return;
        }
        PriGroups.Group group = groups.group(response.prgi());
        if (group == null || group.sent == 0 || !pasidMatches(group, response)) {
            unexpectedPrgIndex = true;
            trace("%s: PRG response for PRGI %d%s that is not outstanding (UPRGI)", name, response.prgi(),
                    response.pasidPresent() ? " PASID " + response.pasid() : " without PASID");
            return;
        }
        groups.answered(response.prgi());
        creditsInUse -= group.sent;
        PrgResponseCode code = response.code();
        trace("%s receives PRG response PRGI %d: %s (wire %#x)%s", name, response.prgi(), code, response.wireCode(),
                enabled ? "" : " while PRI is disabled");
        if (code == PrgResponseCode.RESPONSE_FAILURE) {
            responseFailure = true;
        }
        if (group.listener != null) {
            group.listener.answered(code);
        }
        if (responseFailure) {
            groups.releaseAfterFailure().forEach(GroupListener::abandoned);
        }
        pump();
    }

    private boolean pasidMatches(PriGroups.Group group, PrgResponse response) {
        PageRequestMessage m = group.lastMessage;
        if (!ep.config().options().prgResponsePasidRequired() || !m.pasidPresent()) {
            return true;
        }
        return response.pasidPresent() && response.pasid() == m.pasid();
    }

    /**
     * The device driver stops using {@code pasid} (§6 scenario 46): groups of that PASID not sent yet are
     * discarded, a group with requests sent but no LPIG is finished with an LPIG (repeating its last page),
     * then a Stop Marker goes out behind every earlier request of the PASID. {@code markerSent} runs once it
     * has; at once when PRI cannot send (disabled or RF), as no page request protocol is running.
     */
    void stopPasid(int pasid, Runnable markerSent) {
        groups.dropUnsent(pasid).forEach(PriCapability::notifyAbandoned);
        if (!usable()) {
            trace("%s: no Stop Marker for PASID %d: PRI %s", ep.config().name(), pasid,
                    responseFailure ? "stopped by Response Failure" : "disabled");
            markerSent.run();
            return;
        }
        for (PageRequestMessage l : groups.openGroups(pasid)) {
            groups.enqueue(List.of(new PageRequestMessage(l.rid(), true, pasid, l.exe(), l.priv(), l.read(),
                    l.write(), true, l.prgi(), l.pageAddr())), null, () -> { });
        }
        groups.enqueue(List.of(new PageRequestMessage(ep.rid(), true, pasid, false, false, false, false, true, 0, 0)),
                null, markerSent);
        pump();
    }

    private static void notifyAbandoned(PriGroups.Group g) {
        if (g != null && g.listener != null) {
            g.listener.abandoned();
        }
    }

    private void trace(String format, Object... args) {
        ep.loop().trace().step(ep.loop().now(), Layer.DEVICE, "pci-pri",format, args);
    }
}
