package dev.iommulab.hw.sim;

/** A scheduled event, which can be cancelled before it runs. */
public interface EventHandle {

    /** The event will not run; it no longer counts as pending. No effect once it ran or was cancelled. */
    void cancel();

    boolean cancelled();
}
