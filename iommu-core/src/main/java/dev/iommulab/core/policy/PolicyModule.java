package dev.iommulab.core.policy;

import com.google.inject.AbstractModule;

/**
 * A module that registers a layer's policies in the map binder of {@link Policies}. Every instance of a class equals
 * every other, so a layer module and the lab may both install it and Guice registers the policies once.
 */
public abstract class PolicyModule extends AbstractModule {

    @Override
    public final boolean equals(Object o) {
        return o != null && o.getClass() == getClass();
    }

    @Override
    public final int hashCode() {
        return getClass().hashCode();
    }
}
