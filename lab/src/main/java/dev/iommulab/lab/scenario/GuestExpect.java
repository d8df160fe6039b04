package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * An expectation with {@code guest:}: {@code expectation} holds of what happened inside the guest {@code guest}.
 *
 * @param guest       declared guest name
 * @param expectation the expectation, whose devices and log are the guest's
 */
public record GuestExpect(String guest, Expectation expectation) implements Expectation {

    public GuestExpect {
        Checks.name(guest, "guest");
        Objects.requireNonNull(expectation, "expectation");
        if (expectation instanceof GuestExpect) {
            throw new IllegalArgumentException("a guest expectation is not nested");
        }
    }

    @Override
    public SourceLocation location() {
        return expectation.location();
    }

    @Override
    public String describe() {
        return guest + ": " + expectation.describe();
    }
}
