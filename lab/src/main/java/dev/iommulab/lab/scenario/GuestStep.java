package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * A step with {@code guest:}: {@code step} happens inside the guest {@code guest} — its devices, its kernel.
 *
 * @param guest declared guest name
 * @param step  the step, whose devices are the guest's
 */
public record GuestStep(String guest, Step step) implements Step {

    public GuestStep {
        Checks.name(guest, "guest");
        Objects.requireNonNull(step, "step");
        if (step instanceof GuestStep) {
            throw new IllegalArgumentException("a guest step is not nested");
        }
    }

    /** The kind of the step the guest performs. */
    @Override
    public String kind() {
        return step.kind();
    }

    @Override
    public Long atNs() {
        return step.atNs();
    }

    @Override
    public SourceLocation location() {
        return step.location();
    }
}
