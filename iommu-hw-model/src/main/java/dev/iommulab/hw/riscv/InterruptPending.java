package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.InterruptLine;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.function.IntSupplier;

/**
 * The interrupt-pending status register {@code ipsr} (riscv-iommu "Interrupt pending status register";
 * reference/iommu-hardware.md §2.4.2, RV-I583, RV-I98). A pending bit is set when its queue asks for an
 * interrupt and interrupts from that queue are enabled; the message goes out only on the bit's 0 → 1
 * edge, so nothing more is signalled until software clears the bit by writing 1. If the level condition
 * of a bit (an error bit in its CSR) still holds when software clears it, the bit is set again at once.
 *
 * <p>MSI address/data ({@code msi_cfg_tbl}) and {@code icvec} routing are not modelled: the driver
 * registers one {@link InterruptLine} per source. With {@code fctl.WSI} the line is the wire.
 */
final class InterruptPending {

    private final EventLoop loop;
    private final TimingModel timing;
    private final InterruptLine[] lines = new InterruptLine[4];
    private final IntSupplier[] levelConditions = new IntSupplier[4];
    private int ipsr;

    InterruptPending(EventLoop loop, TimingModel timing) {
        this.loop = loop;
        this.timing = timing;
    }

    void setLine(int bit, InterruptLine line) {
        lines[Integer.numberOfTrailingZeros(bit)] = line;
    }

    /** {@code condition} returns non-zero while the source's error bits keep asking for an interrupt. */
    void setLevelCondition(int bit, IntSupplier condition) {
        levelConditions[Integer.numberOfTrailingZeros(bit)] = condition;
    }

    int value() {
        return ipsr;
    }

    /** A queue asks for an interrupt ({@code enabled}: its CSR's interrupt-enable bit). */
    void request(int bit, boolean enabled) {
        if (!enabled || (ipsr & bit) != 0) {
            return;
        }
        ipsr |= bit;
        InterruptLine line = lines[Integer.numberOfTrailingZeros(bit)];
        if (line != null) {
            loop.schedule(timing.msiNs(), "riscv-iommu-irq", line::raise);
        }
    }

    /** Software writes {@code value} to ipsr: RW1C on cip, fip, pmip, pip. */
    void writeOneToClear(int value) {
        int cleared = ipsr & value & 0xf;
        ipsr &= ~cleared;
        for (int i = 0; i < 4; i++) {
            int bit = 1 << i;
            if ((cleared & bit) != 0 && levelConditions[i] != null && levelConditions[i].getAsInt() != 0) {
                request(bit, true);
            }
        }
    }
}
